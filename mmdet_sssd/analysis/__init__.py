from .anchor_gradients import (GROUPS, GroupSums, anchor_groups,
                               check_anchor_head, entries, level_index)
from .box_errors import (SIZE_NAMES, box_error_summary,
                         matched_box_errors)
from .backbone_probes import BANDS, pooled_features, scale_probe
from .curve_tables import curve_tables, mean_curve, record_tables
from .head_fit import fit_head
from .map_probes import (MAPS, centre_cells, collect_map_probes,
                         map_probe_report, size_class)
from .paired_comparison import (comparison_tables, experiment_tables,
                                paired, paired_table, read_records,
                                sd_interval, spread_table, summary_table,
                                t_interval, t_test_p, verdict)
from .teacher_probes import (attention_routing, collect_teacher_probes,
                             format_report, keep_one_object,
                             preprocessed_batches,
                             linear_probe_accuracy, probe_report)

__all__ = [
    'GROUPS', 'GroupSums', 'anchor_groups', 'check_anchor_head', 'entries',
    'level_index', 'SIZE_NAMES', 'box_error_summary', 'matched_box_errors',
    'fit_head', 'BANDS', 'pooled_features', 'scale_probe',
    'MAPS', 'centre_cells', 'collect_map_probes', 'map_probe_report',
    'size_class',
    'curve_tables', 'mean_curve', 'record_tables',
    'comparison_tables', 'experiment_tables', 'paired', 'paired_table',
    'read_records', 'sd_interval', 'spread_table', 'summary_table',
    't_interval', 't_test_p', 'verdict', 'attention_routing',
    'collect_teacher_probes', 'format_report', 'keep_one_object',
    'linear_probe_accuracy', 'preprocessed_batches', 'probe_report'
]
