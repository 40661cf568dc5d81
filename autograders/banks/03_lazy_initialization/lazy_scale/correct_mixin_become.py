# Correct: LazyModuleMixin that turns into a plain Scale module once initialized (cls_to_become)
class Scale(nn.Module):
    def forward(self, X):
        if X.size(-1) != self.weight.size(0):
            raise RuntimeError("the number of features does not match weight")
        return self.weight * X


class LazyScale(LazyModuleMixin, Scale):
    cls_to_become = Scale

    def __init__(self):
        super().__init__()
        self.weight = UninitializedParameter()

    def initialize_parameters(self, input):
        if is_lazy(self.weight):
            with torch.no_grad():
                self.weight.materialize(input.shape[-1:])
                self.weight.copy_(torch.ones_like(self.weight))
