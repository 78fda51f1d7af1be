# Copyright (c) mmavs contributors. All rights reserved.
"""The SynthAVS categories: how each one looks and which sound it makes.

Twelve categories in the four coarse groups of AVSBench (three each; the group table is
:data:`mmavs.datasets.categories.SYNTH_CATEGORY_GROUPS`). Every category has its own shape, a
colour family (hue in degrees, with per-clip jitter) and a texture, so a category is recognisable
from its look alone, and one sound family in :mod:`mmavs.synth.sounds` (same name as the
category). Textures and some hues are shared between categories; shapes are not.
"""
from dataclasses import dataclass
from typing import Dict

from mmavs.datasets.categories import SYNTH_CATEGORY_GROUPS
from .shapes import SHAPES

TEXTURES = ('solid', 'stripes', 'dots', 'checker')


@dataclass(frozen=True)
class CategoryLook:
    """Appearance of a category.

    Args:
        shape (str): A key of :data:`mmavs.synth.shapes.SHAPES`.
        hue (float): Centre of the colour family, degrees in [0, 360).
        saturation (float): Mean HSV saturation in [0, 1].
        value (float): Mean HSV value (brightness) in [0, 1].
        texture (str): One of :data:`TEXTURES`.
        second_light (bool): The texture's second colour is a light tint (True) or a dark shade.
    """
    shape: str
    hue: float
    saturation: float
    value: float
    texture: str
    second_light: bool = False


CATEGORY_LOOKS: Dict[str, CategoryLook] = {
    # music
    'guitar': CategoryLook('ellipse', 28, 0.85, 0.85, 'stripes'),
    'piano': CategoryLook('square', 220, 0.75, 0.70, 'checker', second_light=True),
    'flute': CategoryLook('diamond', 185, 0.45, 0.90, 'solid'),
    # human
    'singer': CategoryLook('star', 305, 0.75, 0.85, 'solid'),
    'speaker': CategoryLook('circle', 52, 0.85, 0.90, 'dots'),
    'baby': CategoryLook('heart', 340, 0.40, 0.95, 'stripes', second_light=True),
    # animal
    'dog': CategoryLook('pentagon', 22, 0.65, 0.50, 'dots', second_light=True),
    'bird': CategoryLook('triangle', 115, 0.75, 0.75, 'stripes'),
    'owl': CategoryLook('crescent', 270, 0.60, 0.65, 'checker', second_light=True),
    # device
    'siren': CategoryLook('cross', 0, 0.85, 0.85, 'stripes', second_light=True),
    'engine': CategoryLook('hexagon', 165, 0.55, 0.55, 'checker'),
    'typewriter': CategoryLook('ring', 240, 0.55, 0.45, 'dots', second_light=True),
}

#: Category names in a fixed order (the order of the group table).
CATEGORIES = tuple(SYNTH_CATEGORY_GROUPS)


def _check_catalog() -> None:
    if set(CATEGORY_LOOKS) != set(SYNTH_CATEGORY_GROUPS):
        raise RuntimeError('SynthAVS looks and group table disagree: '
                           f'{sorted(set(CATEGORY_LOOKS) ^ set(SYNTH_CATEGORY_GROUPS))}')
    for name, look in CATEGORY_LOOKS.items():
        if look.shape not in SHAPES or look.texture not in TEXTURES:
            raise RuntimeError(f'bad look for {name}: {look}')
    if len({lk.shape for lk in CATEGORY_LOOKS.values()}) != len(CATEGORY_LOOKS):
        raise RuntimeError('two SynthAVS categories share a shape')


_check_catalog()
