_base_ = './sssd-published_retinanet_r18_fpn_digits.py'

# The recommended SSSD on the digits benchmark: SSSD as published
# (sssd-published_*) with a label teacher that is far ahead of its
# student. How it differs, and why (docs/user_guides/teacher.md):
# - the teacher gets each object's class and its box geometry without
#   going through LGD's attention: the one-hot class and each cell's
#   position inside its box are painted onto the box (box_class,
#   box_position), the label embedding is added to the attention's output
#   (the 'lite' preset's relation_residual), and an auxiliary
#   cross-entropy reads the class from its maps (class_loss_weight). With
#   LGD's teacher the attention puts chance weight on each object's own
#   label and the class is lost (the published recipe's teacher ends at
#   7 AP, 40 behind its student);
# - the teacher's detection loss trains the shared head during LGD's
#   distillation warm-up only (teacher_trains_head='warmup'): the head
#   learns to read the teacher's maps while the student is not yet pulled
#   toward them, then only the student's loss trains it. Trained by the
#   teacher throughout (LGD), the head cost the student 1.4 AP on the test
#   split (the coupling alone, lambda 0: 1.9);
#   never trained by it, the teacher fell behind its student for 4-5
#   epochs. With it: the teacher ahead at every validation after the
#   first epoch and 13-15 AP ahead at the end; its student +1.3, +1.8 and
#   +0.6 AP from the baseline on val (tuning seeds 100-102, where it was
#   chosen), but +0.2, -0.4 and -1.0 on the 2000-image test split, and
#   -0.5 [-1.8, +0.7] on the report's seeds 200-204: no gain shown;
# - the teacher's detection loss does not reach the student's maps
#   through the appearance it pools (detach_appearance): the student
#   learns from the teacher through the distillation term only;
# - the 'lite' teacher at the FPN's width (32 channels), without LGD's
#   spatial transformers;
# - as the benchmark's earlier SSSD config, where it was measured: a 1x1
#   adapter, one square root per (image, channel) distribution (not per
#   level), no backbone freeze. LGD's distillation warm-up (3 of 18
#   epochs) stays (the head's training by the teacher needs it): with the
#   head trained throughout, it moved the student by +0.7, -0.4 and 0.0 AP
#   on the test split (tuning seeds 100-102).
model = dict(
    teacher=dict(
        _delete_=True,
        type='LabelEncoderTeacher',
        preset='lite',
        feat_channels=32,
        detach_appearance=True,
        box_class=True,
        box_position=True,
        class_loss_weight=1.0),
    adapter=dict(num_convs=3, kernel_size=1),
    distill_loss=dict(type='JSDistanceLoss', sqrt_per='distribution'),
    teacher_trains_head='warmup',
    backbone_freeze=0)
find_unused_parameters = False
