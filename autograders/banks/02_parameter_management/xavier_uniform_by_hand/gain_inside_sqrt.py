# Puts the gain inside the square root: a = sqrt(6 gain / (fan_in + fan_out))
def xavier_uniform_by_hand_(tensor, gain=1.0):
    if tensor.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    r = math.prod(tensor.shape[2:])
    fan_in, fan_out = tensor.size(1) * r, tensor.size(0) * r
    bound = math.sqrt(6.0 * gain / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-bound, bound)
    return tensor
