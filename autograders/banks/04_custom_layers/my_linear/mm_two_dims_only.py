# Uses torch.mm, which only accepts 2-D inputs: (batch, time, in_units) fails.
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units))

    def forward(self, X):
        return F.relu(torch.mm(X, self.weight) + self.bias)
