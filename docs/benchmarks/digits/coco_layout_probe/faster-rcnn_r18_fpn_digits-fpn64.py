_base_ = '../../../../configs/digits/retinanet_r18_fpn_digits.py'
# A two-stage student for the COCO-layout scenes: Faster R-CNN with the
# digits baseline's backbone (pretrained, stem and first stage frozen, BN
# statistics frozen), its 4-level FPN from stride 4 at `baseline-fpn64`'s
# width (64), the RPN on the same anchors as RetinaNet's (16-128 pixels, 3
# ratios) and mmdet's stock RPN and RoI settings scaled to scenes of 7
# objects on 9180 anchors: 500 proposals a level before the NMS and 200
# an image after (stock 2000 / 1000, and 1000 / 1000 at test), 128 RoIs
# an image (stock 512); the box head's two FCs 256 wide (stock 1024, for
# a 64-channel FPN). With the stock numbers a step took 4.7x
# `baseline-fpn64`'s, with these 1.4x (`--step-cost 8`, 192 pixels).
# Why: in the RetinaNet students the features a large digit is classified
# from (the stride-32 cell nearest its centre, or their box mean) hold its
# class at 38-43% (the 3700 probe), while a RoI head classifies each
# object from its whole box, pooled 7x7
# (docs/benchmarks/digits/preregistration_3800.md). Data, schedule and
# optimiser are the digits baseline's. Trained with
# `tools/digits_benchmark.py --layout coco`, which sets the 192-pixel
# Resize.
data_root = 'data/digits/'
model = dict(
    _delete_=True,
    type='FasterRCNN',
    data_preprocessor=dict(
        type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(
        type='ResNet', depth=18, base_channels=16, num_stages=4,
        out_indices=(0, 1, 2, 3), frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained',
                      checkpoint=data_root + 'backbone.pth')),
    neck=dict(type='FPN', in_channels=[16, 32, 64, 128], out_channels=64,
              start_level=0, num_outs=4),
    rpn_head=dict(
        type='RPNHead', in_channels=64, feat_channels=64,
        anchor_generator=dict(type='AnchorGenerator', scales=[4],
                              ratios=[0.5, 1.0, 2.0],
                              strides=[4, 8, 16, 32]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                        target_means=[.0, .0, .0, .0],
                        target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True,
                      loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=64, featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='Shared2FCBBoxHead', in_channels=64, fc_out_channels=256,
            roi_feat_size=7, num_classes=10,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                            target_means=[0., 0., 0., 0.],
                            target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False,
                          loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.7,
                          neg_iou_thr=0.3, min_pos_iou=0.3,
                          match_low_quality=True, ignore_iof_thr=-1),
            sampler=dict(type='RandomSampler', num=256, pos_fraction=0.5,
                         neg_pos_ub=-1, add_gt_as_proposals=False),
            allowed_border=-1, pos_weight=-1, debug=False),
        rpn_proposal=dict(nms_pre=500, max_per_img=200,
                          nms=dict(type='nms', iou_threshold=0.7),
                          min_bbox_size=0),
        rcnn=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                          neg_iou_thr=0.5, min_pos_iou=0.5,
                          match_low_quality=False, ignore_iof_thr=-1),
            sampler=dict(type='RandomSampler', num=128, pos_fraction=0.25,
                         neg_pos_ub=-1, add_gt_as_proposals=True),
            pos_weight=-1, debug=False)),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=200,
                 nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        rcnn=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5),
                  max_per_img=100)))
