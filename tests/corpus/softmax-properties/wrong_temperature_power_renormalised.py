"""Wrong: p ** (1/T) renormalised. Exact in theory, but for a tiny T every power underflows to 0
and 0/0 gives nan.

verdict: wrong
message: returned nan
"""


def softmax_temperature(raw, temperature, axis=-1):
    powered = softmax(raw, axis=axis) ** (1.0 / temperature)
    return powered / powered.sum(axis=axis, keepdims=True)
