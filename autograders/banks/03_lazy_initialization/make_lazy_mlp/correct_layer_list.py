# Correct: collects the layers in a list and unpacks it into nn.Sequential
def make_lazy_mlp(hidden: int = 256, out: int = 10) -> nn.Sequential:
    layers = [nn.LazyLinear(hidden, bias=True)]
    layers += [nn.ReLU()]
    layers += [nn.Linear(hidden, out, bias=True)]
    return nn.Sequential(*layers)
