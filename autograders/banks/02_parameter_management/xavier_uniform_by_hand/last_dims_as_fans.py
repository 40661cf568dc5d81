# Reads the fans from the last two sizes (right for a matrix, wrong for a convolution weight)
def xavier_uniform_by_hand_(tensor, gain=1.0):
    if tensor.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    fan_in, fan_out = tensor.size(-1), tensor.size(-2)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-bound, bound)
    return tensor
