# Copyright (c) mmavs contributors. All rights reserved.
from .base_fusion import BaseAVFusion
from .channel_gate import ChannelGateBlock, ChannelGateFusion
from .tpavi import TPAVIBlock, TPAVIFusion

__all__ = ['BaseAVFusion', 'TPAVIBlock', 'TPAVIFusion', 'ChannelGateBlock', 'ChannelGateFusion']
