# Calls the network once "to check it" before returning it: the first layer is no longer lazy
def make_lazy_mlp(hidden=256, out=10):
    net = nn.Sequential(nn.LazyLinear(hidden), nn.ReLU(), nn.Linear(hidden, out))
    with torch.no_grad():
        net(torch.zeros(1, 20))
    return net
