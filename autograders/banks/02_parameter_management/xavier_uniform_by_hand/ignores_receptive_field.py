# Takes fan_in = size(1) and fan_out = size(0) for every tensor, forgetting the receptive field
def xavier_uniform_by_hand_(tensor, gain=1.0):
    if tensor.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    fan_in, fan_out = tensor.size(1), tensor.size(0)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-bound, bound)
    return tensor
