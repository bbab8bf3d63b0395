from .teacher_probes import (attention_routing, collect_teacher_probes,
                             format_report, keep_one_object,
                             linear_probe_accuracy, probe_report)

__all__ = [
    'attention_routing', 'collect_teacher_probes', 'format_report',
    'keep_one_object', 'linear_probe_accuracy', 'probe_report'
]
