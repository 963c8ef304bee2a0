"""Wrong: divides `raw` directly, which fails when raw is a Python list.

verdict: wrong
message: failed on a Python list
"""


def softmax_temperature(raw, temperature, axis=-1):
    return softmax(raw / temperature, axis=axis)
