# Creates the shared layer last and registers every module with add_module
def make_tied_mlp(hidden=8):
    net = nn.Sequential()
    first = nn.Linear(4, hidden)
    last = nn.Linear(hidden, 1)
    shared = nn.Linear(hidden, hidden)
    for index, module in enumerate([first, nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), last]):
        net.add_module(str(index), module)
    return net
