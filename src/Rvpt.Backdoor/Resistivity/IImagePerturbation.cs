using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>A perturbation δ of [0, 1] images, for perturbation resistivity. Every <see cref="ITrigger"/> is one too (see <see cref="Perturbations.FromTrigger"/>).</summary>
public interface IImagePerturbation
{
    /// <summary>Name for reports.</summary>
    string Name { get; }

    /// <summary>Perturbed copies of <c>[N, 3, H, W]</c> images in [0, 1]; random choices depend on <paramref name="seed"/> and the row.</summary>
    Tensor Apply(Tensor images, long seed);
}
