# Correct: a no_grad decorator, and no pass at all when nothing is lazy
@torch.no_grad()
def materialize(net, example_input):
    if any(is_lazy(p) for p in net.parameters()) or any(is_lazy(b) for b in net.buffers()):
        net(example_input)
    return net
