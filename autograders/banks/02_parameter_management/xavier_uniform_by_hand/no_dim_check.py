# No check of the number of dimensions: a 1-D tensor raises IndexError instead of ValueError
def xavier_uniform_by_hand_(tensor, gain=1.0):
    r = math.prod(tensor.shape[2:])
    fan_in, fan_out = tensor.size(1) * r, tensor.size(0) * r
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-bound, bound)
    return tensor
