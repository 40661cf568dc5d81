# An eager first layer with a fixed input width of 20: nothing is lazy and other widths fail
def make_lazy_mlp(hidden=256, out=10):
    return nn.Sequential(nn.Linear(20, hidden), nn.ReLU(), nn.Linear(hidden, out))
