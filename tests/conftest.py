import pytest
import torch


@pytest.fixture(autouse=True, scope='module')
def _single_thread():
    """The tests' models are tiny: thread hand-offs cost more than they save,
    above all on a busy CPU."""
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)
