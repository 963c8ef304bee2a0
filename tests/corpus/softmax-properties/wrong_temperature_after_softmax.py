"""Wrong: applies the temperature after SoftMax, p ** (1/T), and forgets to renormalise.

verdict: wrong
message: does not sum to 1
"""


def softmax_temperature(raw, temperature, axis=-1):
    return softmax(raw, axis=axis) ** (1.0 / temperature)
