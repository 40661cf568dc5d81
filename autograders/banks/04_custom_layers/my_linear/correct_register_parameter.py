# Correct: register_parameter, the bias drawn first, F.linear with the transposed weight and clamp.
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.register_parameter("bias", nn.Parameter(torch.randn(units)))
        self.register_parameter("weight", nn.Parameter(torch.randn(in_units, units)))

    def forward(self, X):
        return F.linear(X, self.weight.t(), self.bias).clamp(min=0)
