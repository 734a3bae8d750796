"""What the bundled learned styles were trained on, and on what terms (from each PROVENANCE.txt of ../shared/data).

`vidtoon export RUN --provenance pixar` writes these into the model card and the style card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vidtoon.errors import UsageError

RESEARCH_PHOTOS = (
    "Photos (domain A) are research data without an open licence: BSDS500 (Corel images, non-commercial "
    "research/education), Kodak24/McMaster (research benchmarks), DAVIS frames via deep-video-prior and ProPainter "
    "(research use, non-commercial)."
)


@dataclass(frozen=True)
class Provenance:
    """The data, licence and credits a style card states, and the restyle defaults the style works best with."""

    data: str
    licence: str
    credits: str
    defaults: dict[str, Any] = field(default_factory=dict)


PROVENANCE: dict[str, Provenance] = {
    "pixar": Provenance(
        data=(
            "A: photos and live action (BSDS500, Kodak24/McMaster, DAVIS bike-packing/tennis/bmx-trees, the deep-video-prior "
            "bedroom sequence, OpenCV's vtest.avi); B: frames of the Blender open movies Big Buck Bunny, Sintel (film and "
            "MPI-Sintel frames), blank frames and near-duplicates removed, green frames capped at "
            "the photos' share (scripts/prepare_style_data.py pixar)"
        ),
        licence=(
            "Style frames: Big Buck Bunny and Sintel (c) Blender Foundation, CC-BY 3.0. "
            + RESEARCH_PHOTOS
            + " The weights are for research use."
        ),
        credits=(
            "Big Buck Bunny and Sintel (c) Blender Foundation | www.blender.org, CC-BY 3.0; the film-look target: fast "
            "global smoother (Min et al., IEEE TIP 2014), domain transform (Gastal & Oliveira, SIGGRAPH 2011)"
        ),
        defaults={"height": 360},  # the scale it was trained at (288-px frames): at 1080p its smoothing would be too fine
    ),
    "anime": Provenance(
        data=(
            "A: selfies (selfie2anime trainA, U-GAT-IT); B: anime faces (selfie2anime trainB), via zeka-io/selfie-to-anime "
            "(scripts/prepare_style_data.py anime)"
        ),
        licence=(
            "Research use only: the selfie2anime data set (U-GAT-IT, NCSOFT) has no licence; the selfies are web-scraped "
            "and show identifiable people; the anime faces are cropped from commercial TV anime (copyrighted). Do not "
            "redistribute the weights for commercial use."
        ),
        credits=(
            "selfie2anime data set: Kim et al., U-GAT-IT (ICLR 2020); selfies: Kalantidis et al.; the cel-anime target: "
            "fast global smoother (Min et al., IEEE TIP 2014), XDoG (Winnemöller, Kyprianidis & Olsen, 2012)"
        ),
        defaults={"faces": True},
    ),
}


def get_provenance(name: str) -> Provenance:
    """The provenance preset `name`; an unknown name lists the known ones."""
    if name not in PROVENANCE:
        raise UsageError(
            f"unknown provenance {name!r} for --provenance",
            hint=f"known: {', '.join(PROVENANCE)}; or give --data, --licence, --credits",
        )
    return PROVENANCE[name]
