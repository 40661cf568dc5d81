# Maps torch.rand to [-a, a) and copies it in; the receptive field from tensor[0][0].numel()
def xavier_uniform_by_hand_(tensor, gain=1.0):
    if tensor.ndim < 2:
        raise ValueError(f"expected at least 2 dimensions, got {tensor.ndim}")
    receptive = tensor[0][0].numel()
    fan_in = tensor.shape[1] * receptive
    fan_out = tensor.shape[0] * receptive
    a = gain * (6 / (fan_in + fan_out)) ** 0.5
    with torch.no_grad():
        tensor.copy_(torch.rand(tensor.shape, dtype=tensor.dtype) * (2 * a) - a)
    return tensor
