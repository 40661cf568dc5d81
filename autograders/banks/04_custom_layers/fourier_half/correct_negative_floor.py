# Correct: ceil(n / 2) computed as -(-n // 2), with a keyword dim and an explicit slice object.
class FourierHalf(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        keep = -(-X.shape[-1] // 2)
        coefficients = torch.fft.fft(input=X, dim=X.dim() - 1)
        return coefficients[(Ellipsis, slice(0, keep))]
