# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import List, Optional, Tuple, Union

import torch
from mmdet.models.detectors import SingleStageDetector
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.runner import load_checkpoint
from torch import Tensor


def load_model_config(config: Union[str, dict]) -> ConfigDict:
    """A detector's model config from a config file, an ``mmdet::`` name
    (a config of an installed package) or a model dict."""
    if isinstance(config, dict):
        return ConfigDict(config.get('model', config))
    if '::' in config:
        from mmengine.hub import get_config
        return get_config(config).model
    return Config.fromfile(config).model


class FrozenDetector:
    """A pretrained stock detector used as a teacher: built from its config,
    loaded from its checkpoint, in eval mode and without gradients.

    It is deliberately not an ``nn.Module`` attribute of the distiller, so it
    is not in its ``state_dict`` (nor in checkpoints or the exported
    student), not given to the optimizer, not wrapped by DDP and never put
    back into train mode (BN statistics stay as loaded). It follows the
    inputs' device.

    Args:
        config (str | dict): Config file, ``mmdet::`` name or model dict.
        checkpoint (str): Its weights (path or URL), read by :meth:`load`.
    """

    def __init__(self, config: Union[str, dict], checkpoint: str) -> None:
        if not checkpoint:
            raise ValueError('SSSDDistiller: pretrained_teacher.checkpoint is '
                             'required (a randomly initialised teacher '
                             'teaches nothing)')
        cfg = load_model_config(config)
        cfg.pop('init_cfg', None)
        if cfg.get('backbone', {}).get('init_cfg') is not None:
            cfg.backbone.init_cfg = None  # the checkpoint has the weights
        self.model = MODELS.build(cfg)
        self.checkpoint = checkpoint
        self.model.eval()
        self.model.requires_grad_(False)
        if not getattr(self.model, 'with_neck', False):
            raise TypeError(f'SSSDDistiller: the pretrained teacher '
                            f'{type(self.model).__name__} has no neck to '
                            f'distil FPN maps from')

    def load(self) -> None:
        """Loads the checkpoint (strict: a teacher with missing or
        mismatched weights would teach noise). A local file goes through
        mmdet_sssd's safe loader (see ``docs/safety.md``)."""
        from mmdet_sssd.utils.checkpoint import UntrustedCheckpointError
        try:
            load_checkpoint(self.model, self.checkpoint, map_location='cpu',
                            strict=True, logger='current')
        except UntrustedCheckpointError as e:
            raise UntrustedCheckpointError(
                f'SSSDDistiller: pretrained_teacher.checkpoint: {e}') from None

    @property
    def neck(self):
        return self.model.neck

    @property
    def head(self):
        if not isinstance(self.model, SingleStageDetector):
            raise TypeError(
                f'SSSDDistiller: logit distillation needs a single-stage '
                f'teacher with a dense head; {type(self.model).__name__} '
                f'is not one')
        return self.model.bbox_head

    def _inputs(self, batch_inputs: Tensor, student_preprocessor) -> Tensor:
        """Re-normalises inputs the student's preprocessor made for the
        teacher's mean, std and channel order."""
        ours, theirs = student_preprocessor, self.model.data_preprocessor
        swap = (getattr(ours, '_channel_conversion', False) !=
                getattr(theirs, '_channel_conversion', False))
        same = (not swap and getattr(ours, '_enable_normalize', False)
                == getattr(theirs, '_enable_normalize', False)
                and (not getattr(ours, '_enable_normalize', False) or (
                    torch.equal(ours.mean, theirs.mean)
                    and torch.equal(ours.std, theirs.std))))
        if same:
            return batch_inputs
        x = batch_inputs
        if getattr(ours, '_enable_normalize', False):
            x = x * ours.std + ours.mean
        if swap:
            x = x.flip(1)
        if getattr(theirs, '_enable_normalize', False):
            x = (x - theirs.mean) / theirs.std
        return x

    @torch.no_grad()
    def __call__(self, batch_inputs: Tensor, student_preprocessor,
                 with_logits: bool
                 ) -> Tuple[Tuple[Tensor], Optional[List[Tensor]]]:
        """FPN maps and, if asked, the dense head's classification logits
        (one (N, A * K, H, W) tensor per level)."""
        device = batch_inputs.device
        if next(self.model.parameters()).device != device:
            self.model.to(device)
        x = self._inputs(batch_inputs, student_preprocessor)
        feats = self.model.extract_feat(x)
        logits = self.head(feats)[0] if with_logits else None
        return feats, logits
