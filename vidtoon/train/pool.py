"""The image history pool of CycleGAN (Shrivastava et al. 2017): discriminators also see older fakes."""

from __future__ import annotations

import torch


class ImagePool:
    """Remembers up to `size` generated images; `query` returns a batch mixing new and remembered ones.

    For each new image: while the pool is not full it is stored and returned; afterwards, with
    probability 1/2 a random stored image is returned and the new one takes its place, otherwise the
    new one is returned. `size` 0 returns the batch unchanged. Every draw comes from the pool's own
    generator, whose state is part of `state_dict()`, so a resumed run draws the same.

    Args:
        size: images remembered.
        seed: seeds the pool's generator.
    """

    def __init__(self, size: int, seed: int = 0):
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.images: list[torch.Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """N×C×H×W (detached) -> N×C×H×W drawn from the new images and the pool."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image[None]
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator).item() > 0.5:
                k = int(torch.randint(0, self.size, (), generator=self.generator))
                out.append(self.images[k].clone())
                self.images[k] = image.clone()
            else:
                out.append(image)
        return torch.cat(out)

    def state_dict(self) -> dict[str, torch.Tensor | int]:
        """Plain tensors (loadable with `torch.load(weights_only=True)`): the stored images and the generator state."""
        stored = torch.cat(self.images).cpu() if self.images else torch.empty(0)
        return {"size": self.size, "images": stored, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        if state["size"] != self.size:
            raise ValueError(f"pool size {state['size']} in the checkpoint, {self.size} configured")
        stored = state["images"]
        self.images = [image[None].to(device) for image in stored] if stored.numel() else []
        self.generator.set_state(state["generator"])
