# Rebinds tensor.data to new memory instead of writing into the tensor's own memory
def xavier_uniform_by_hand_(tensor, gain=1.0):
    if tensor.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    r = math.prod(tensor.shape[2:])
    fan_in, fan_out = tensor.size(1) * r, tensor.size(0) * r
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    tensor.data = torch.empty(tensor.shape, dtype=tensor.dtype).uniform_(-bound, bound)
    return tensor
