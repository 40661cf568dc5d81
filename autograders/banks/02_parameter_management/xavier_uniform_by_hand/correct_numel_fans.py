# Gets the fans from numel() and fills through a detached alias (no autograd recording)
def xavier_uniform_by_hand_(tensor, gain=1.0):
    if len(tensor.shape) < 2:
        raise ValueError("Xavier needs a tensor with 2 or more dimensions")
    fan_in = tensor.numel() // tensor.shape[0]
    fan_out = tensor.numel() // tensor.shape[1]
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    tensor.detach().uniform_(-bound, bound)
    return tensor
