# Correct: builds an empty nn.Sequential and appends the layers one by one
def make_lazy_mlp(hidden=256, out=10):
    net = nn.Sequential()
    net.append(nn.LazyLinear(out_features=hidden))
    net.append(nn.ReLU(inplace=True))
    net.append(nn.Linear(in_features=hidden, out_features=out))
    return net
