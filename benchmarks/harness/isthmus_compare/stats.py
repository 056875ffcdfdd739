"""Medians and ratios over rounds; failed rounds (None) are left out."""


def median(values):
    """Median of the numbers in values, ignoring None; None when nothing is left."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    if len(xs) % 2:
        return float(xs[mid])
    return (xs[mid - 1] + xs[mid]) / 2.0


def ratio(value, reference):
    """value / reference, or None when either is missing or the reference is zero."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def per_op(total, ops):
    """total / ops (e.g. CPU seconds per I/O), or None when there were no operations."""
    if total is None or ops is None or ops <= 0:
        return None
    return total / ops
