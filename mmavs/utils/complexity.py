# Copyright (c) mmavs contributors. All rights reserved.
"""FLOPs and parameters of an audio-visual segmentor with mmengine's counter.

mmengine's :class:`~mmengine.analysis.FlopAnalyzer` traces ``model(*inputs)`` with the JIT and
counts the operators it knows (one multiply-add = one FLOP). MMSeg's ``get_flops.py`` hands it an
image tensor and the segmentor's ``_forward``; an AV segmentor needs both modalities and has two
heads, so :class:`AVComplexityWrapper` runs one inference pass of every module::

    img [B, 3, H, W], audio [B, 96, 64] (, audio_clip [B, E, 96, 64])
      -> backbone, audio_backbone (, audio_neck), neck, fusion   (AVSegmentor.extract_feat)
      -> decode_head -> mask logits [B, 1, h, w] -> resized to [B, 1, H, W]
      -> similarity_head(visual feats, audio embedding, mask logits) -> probability [B]

It adopts the segmentor's children under their own names (``backbone``, ``fusion.blocks.0``...),
so the per-module table reads like the model. Two operators that mmengine leaves out are added
(:data:`EXTRA_FLOP_HANDLES`): ``aten::scaled_dot_product_attention`` (PyTorch's fused attention:
``B * heads * L * S * (E + Ev)``) and ``aten::baddbmm`` (as ``bmm``).

Modules reported as never called: TPAVI's ``theta`` and ``w_z`` are applied in their cheap exact
form inside :class:`~mmavs.models.fusion.tpavi.TPAVIBlock` (``phi(a) @ theta.weight`` and
``g_mean @ w_z.weight.T``, matrix products of the block's own call), so their multiply-adds are
counted in the block's row, not in rows of their own. :func:`folded_modules` lists such
modules: never called, but with parameters that their parent uses.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from .constants import FRAMES_PER_CLIP

#: Log-mel example shape ``(time frames, mel bins)``.
AUDIO_SHAPE = (96, 64)


def sdpa_flop_jit(inputs: List, outputs: List) -> int:
    """``aten::scaled_dot_product_attention``: ``Q K^T`` and ``attn V`` multiply-adds.

    ``query [..., L, E]``, ``key [..., S, E]``, ``value [..., S, Ev]`` ->
    ``prod(...) * L * S * (E + Ev)``.
    """
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = 1
    for d in q[:-2]:
        batch *= d
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


def baddbmm_flop_jit(inputs: List, outputs: List) -> int:
    """``aten::baddbmm(input, batch1, batch2)``: the ``bmm`` of ``batch1 [n, c, t]`` and
    ``batch2 [n, t, d]`` (``n * c * t * d``); the scaled addition is not counted."""
    from mmengine.analysis.jit_handles import get_shape
    n, c, t = get_shape(inputs[1])
    return n * c * t * get_shape(inputs[2])[-1]


#: Operators counted in addition to mmengine's defaults.
EXTRA_FLOP_HANDLES = {
    'aten::scaled_dot_product_attention': sdpa_flop_jit,
    'aten::baddbmm': baddbmm_flop_jit,
}


class AVComplexityWrapper(nn.Module):
    """One inference pass of every module of an :class:`~mmavs.models.AVSegmentor`.

    Args:
        segmentor (nn.Module): The AV segmentor (its children are adopted, not copied).
    """

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        for name, child in segmentor.named_children():
            if name == 'data_preprocessor':
                continue
            self.add_module(name, child)
        # kept out of the module tree, so that its children are not counted twice
        self.__dict__['segmentor'] = segmentor

    def forward(self,
                img: Tensor,
                audio: Tensor,
                audio_clip: Optional[Tensor] = None) -> Tuple[Tensor, Optional[Tensor]]:
        """Run the segmentor's modules.

        Args:
            img (Tensor): Normalised frames ``[B, 3, H, W]``.
            audio (Tensor): Log-mel examples ``[B, 96, 64]``.
            audio_clip (Tensor, optional): Every example of the clips ``[B, E, 96, 64]``
                (clip-level models).

        Returns:
            tuple: Mask logits ``[B, 1, H, W]`` and the similarity probability ``[B]`` (None
            without a similarity head).
        """
        from mmseg.models.utils import resize
        seg = self.segmentor
        inputs = dict(img=img, audio=audio)
        if audio_clip is not None:
            inputs['audio_clip'] = audio_clip
        visual, audio_emb = seg.extract_feat(inputs)
        out = seg.decode_head(seg.decode_inputs(visual, audio_emb))
        logits = out[0] if isinstance(out, (tuple, list)) else out
        logits = resize(
            logits, size=img.shape[2:], mode='bilinear', align_corners=seg.align_corners)
        similarity = None
        if getattr(seg, 'similarity_head', None) is not None:
            similarity = seg.similarity_head(visual, audio_emb, mask_logits=logits).sigmoid()
        return logits, similarity


def padded_shape(shape: Sequence[int], test_cfg: Optional[dict]) -> Tuple[int, int]:
    """``(H, W)`` as the data preprocessor pads it at test time.

    MMSeg's ``SegDataPreProcessor`` pads test inputs only by its ``test_cfg`` (``size`` or
    ``size_divisor``); its own ``size_divisor`` applies to training batches.
    """
    height, width = int(shape[0]), int(shape[1])
    test_cfg = test_cfg or {}
    if test_cfg.get('size'):
        height, width = max(height, test_cfg['size'][0]), max(width, test_cfg['size'][1])
    divisor = test_cfg.get('size_divisor')
    if divisor:
        height = -(-height // divisor) * divisor
        width = -(-width // divisor) * divisor
    return height, width


def dummy_av_inputs(model: nn.Module,
                    shape: Sequence[int],
                    batch_size: int = 1,
                    seed: int = 0) -> Tuple[Tensor, ...]:
    """Random model inputs ``(img [B, 3, H, W], audio [B, 96, 64][, audio_clip])``.

    ``H, W`` is ``shape`` padded as the model's data preprocessor pads at test time
    (:func:`padded_shape`); a clip-level model also gets ``audio_clip [B, 5, 96, 64]``.
    """
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f'expected an input shape (H, W) of positive sizes, found {tuple(shape)}')
    gen = torch.Generator().manual_seed(seed)
    preprocessor = getattr(model, 'data_preprocessor', None)
    height, width = padded_shape(shape, getattr(preprocessor, 'test_cfg', None))
    device = next(model.parameters()).device
    img = torch.randn(batch_size, 3, height, width, generator=gen).to(device)
    audio = torch.randn(batch_size, *AUDIO_SHAPE, generator=gen).to(device)
    if getattr(model, 'needs_audio_clip', False):
        clip = torch.randn(batch_size, FRAMES_PER_CLIP, *AUDIO_SHAPE, generator=gen).to(device)
        return img, audio, clip
    return img, audio


def folded_modules(wrapper: nn.Module, uncalled: Sequence[str]) -> List[str]:
    """Never-called modules whose parameters their parent uses (counted in the parent's row)."""
    names = dict(wrapper.named_modules())
    folded = []
    for name in uncalled:
        parent = name.rsplit('.', 1)[0] if '.' in name else ''
        module = names.get(name)
        if module is None or parent in uncalled or not any(True for _ in module.parameters()):
            continue
        folded.append(name)
    return folded


def av_model_complexity(model: nn.Module,
                        shape: Sequence[int],
                        batch_size: int = 1) -> Dict[str, object]:
    """FLOPs, parameters and the per-module table of one inference pass.

    Args:
        model (nn.Module): An AV segmentor (eval mode is set here).
        shape (sequence of int): Input frame size ``(H, W)``.
        batch_size (int): Frames per pass. Defaults to 1.

    Returns:
        dict: ``flops`` (int, multiply-adds), ``params`` (int), ``input_shape`` (padded
        ``(H, W)``), ``by_module`` (dict name -> FLOPs), ``table`` (str, mmengine's table),
        ``unsupported`` (dict operator -> count: ops the counter skipped), ``folded`` (list of
        module names, see the module docstring) and ``uncalled`` (never-called modules with
        parameters that are not folded: weights the pass does not use).
    """
    from mmengine.analysis import FlopAnalyzer, parameter_count
    from mmengine.analysis.print_helper import complexity_stats_table
    model.eval()
    wrapper = AVComplexityWrapper(model).eval()
    inputs = dummy_av_inputs(model, shape, batch_size)
    analyzer = FlopAnalyzer(wrapper, inputs)
    for name, handle in EXTRA_FLOP_HANDLES.items():
        analyzer.set_op_handle(name, handle)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad():
        flops = int(analyzer.total())
        by_module = dict(analyzer.by_module())
        unsupported = dict(analyzer.unsupported_ops())
        uncalled = sorted(analyzer.uncalled_modules())
    folded = folded_modules(wrapper, uncalled)
    # parameter-free modules (dropout, losses) do no inference work
    with_params = {n for n, m in wrapper.named_modules() if any(True for _ in m.parameters())}
    table = complexity_stats_table(flops=analyzer, max_depth=3, show_param_shapes=False)
    return dict(
        flops=flops,
        params=int(parameter_count(wrapper)['']),
        input_shape=tuple(inputs[0].shape[2:]),
        by_module=by_module,
        table=table,
        unsupported=unsupported,
        folded=folded,
        uncalled=[n for n in uncalled if n not in folded and n in with_params])
