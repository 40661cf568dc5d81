# Draws from U(0, a) instead of U(-a, a)
def xavier_uniform_by_hand_(tensor, gain=1.0):
    if tensor.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    r = math.prod(tensor.shape[2:])
    fan_in, fan_out = tensor.size(1) * r, tensor.size(0) * r
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(0, bound)
    return tensor
