# ADL as the reference code computes it (Tangshitao/Semi-supervised-
# Adaptive-Distillation, SigmoidAdaptiveDistillLoss): the alpha-weighted
# BCE base (alpha 0.5), focus (1 - exp(-(KL + H(q))))^2, normalised by
# max(sum q^1.8, 1) over the batch, the temperature only as a T^2 loss
# scale. Use it with the distiller's mask_ignored_anchors=True (the
# assigner's IoU 0.4-0.5 band left out, the reference's IGNORED_LABEL).
reference_adl = dict(
    type='AdaptiveDistillLoss', alpha=0.5, beta=1.0, gamma=2.0,
    base='alpha_bce', temperature_mode='scale_loss', temperature=1.0,
    norm_power=1.8)
