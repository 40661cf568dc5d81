# Correct: torch.matmul, an nn.ReLU sub-module, and parameters drawn with normal_().
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(in_units, units).normal_())
        self.bias = nn.Parameter(torch.zeros(units).normal_())
        self.activation = nn.ReLU()

    def forward(self, X):
        return self.activation(torch.matmul(X, self.weight).add(self.bias))
