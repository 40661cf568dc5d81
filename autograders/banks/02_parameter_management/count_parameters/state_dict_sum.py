# Sums over state_dict(): counts buffers, and a shared layer once per name
def count_parameters(net):
    return sum(tensor.numel() for tensor in net.state_dict().values())
