# Copyright (c) mmavs contributors. All rights reserved.
"""mmavs components live in MMSeg's registries and mix with MMSeg / MMPretrain components."""
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, METRICS, MODELS, TRANSFORMS


def test_custom_imports_config_mixes_mmavs_and_mmseg_components(tmp_path):
    cfg_file = tmp_path / 'mix.py'
    cfg_file.write_text("default_scope = 'mmseg'\n"
                        "custom_imports = dict(imports=['mmavs'], allow_failed_imports=False)\n"
                        "backbone = dict(type='mmpretrain.ResNet', depth=18, out_indices=(3,))\n"
                        "head = dict(type='FCNHead', in_channels=512, channels=16, num_convs=1,\n"
                        "            num_classes=2, out_channels=1, threshold=0.5)\n")
    cfg = Config.fromfile(str(cfg_file))
    init_default_scope(cfg.default_scope)
    backbone = MODELS.build(cfg.backbone)
    head = MODELS.build(cfg.head)
    feats = backbone(torch.randn(1, 3, 64, 64))
    assert head(list(feats)).shape == (1, 1, 2, 2)


def test_mmavs_registers_into_mmseg_scope():
    import mmavs  # noqa: F401
    init_default_scope('mmseg')
    for registry, names in ((MODELS, [
            'AVSegmentor', 'AVSegDataPreProcessor', 'VGGish', 'AudioCNN', 'SimilarityHead'
    ]), (DATASETS,
         ['AVSBenchS4Dataset', 'AVSBenchMS3Dataset', 'RobustTrainDataset', 'RobustTestDataset'
          ]), (TRANSFORMS, ['LoadAVSAudio', 'PackAVSegInputs', 'AddNegativeAudio',
                            'LoadAVSFrame']), (METRICS, ['RobustAVSMetric'])):
        for name in names:
            assert registry.get(name) is not None, f'{name} missing from {registry.name}'


def test_import_mmavs_does_not_import_the_synthavs_generator():
    """SynthAVS generation is a tool of the main job and the tests, not part of the runtime."""
    import subprocess
    import sys
    out = subprocess.run([
        sys.executable, '-c', 'import sys, mmavs; '
        'print(any(m.startswith("mmavs.synth") for m in sys.modules))'
    ],
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.strip() == 'False'
