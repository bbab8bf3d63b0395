from .checkpoint import load_trusted_local, register_trusted_local_loader

__all__ = ['load_trusted_local', 'register_trusted_local_loader']
