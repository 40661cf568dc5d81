# Deduplicates by object identity itself and checks for UninitializedParameter explicitly
def count_parameters(net):
    seen = set()
    total = 0
    for _, param in net.named_parameters(remove_duplicate=False):
        if id(param) in seen:
            continue
        seen.add(id(param))
        if isinstance(param, nn.parameter.UninitializedParameter):
            raise ValueError("count_parameters: initialize the lazy layers first (one forward pass)")
        total += param.nelement()
    return int(total)
