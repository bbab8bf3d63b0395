from .class_agnostic_coco_metric import (ClassAgnosticCocoMetric,
                                        class_agnostic_config)

__all__ = ['ClassAgnosticCocoMetric', 'class_agnostic_config']
