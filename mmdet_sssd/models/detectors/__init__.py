from .sssd_distiller import SSSDDistiller

__all__ = ['SSSDDistiller']
