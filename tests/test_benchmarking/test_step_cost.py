# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""How :mod:`mmdet_sssd.benchmarking.step_cost` turns timed steps into a
cost per step when a distiller distils on one step of every k."""
import importlib

# the module, not the function the package re-exports under its name
step_cost = importlib.import_module('mmdet_sssd.benchmarking.step_cost')


def test_every_step_distils():
    assert step_cost._per_step([3., 1., 2.], 1) == [3., 1., 2.]


def test_groups_start_at_a_distilling_step():
    # timed steps 2, 3, 4...: with k=2 step 2 distils (a group 2-3, 4-5)
    assert step_cost._per_step([4., 1., 6., 1., 8.], 2) == [2.5, 3.5]
    # with k=3 step 3 is the first that distils (groups 3-5, 6-8)
    assert step_cost._per_step([9., 6., 1., 1., 3., 1., 1.], 3) == [
        8 / 3, 5 / 3]


def test_too_few_steps_for_a_group():
    assert step_cost._per_step([5.], 2) == [5.]
