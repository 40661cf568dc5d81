# Initializes like nn.Linear, U(-1/sqrt(in), 1/sqrt(in)), instead of a standard normal.
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        bound = 1 / math.sqrt(in_units)
        self.weight = nn.Parameter(torch.empty(in_units, units).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(units).uniform_(-bound, bound))

    def forward(self, X):
        return F.relu(X @ self.weight + self.bias)
