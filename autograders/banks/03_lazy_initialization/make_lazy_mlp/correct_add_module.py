# Correct: registers the layers with add_module under the names "0", "1", "2"
def make_lazy_mlp(hidden=256, out=10):
    net = nn.Sequential()
    for index, layer in enumerate((nn.LazyLinear(hidden), nn.ReLU(), nn.Linear(hidden, out))):
        net.add_module(str(index), layer)
    return net
