namespace Rvpt.Backdoor.Lab;

/// <summary>
/// How <see cref="SyntheticBackdoorLab"/> gets the StegaStamp model of its ISSBA attack (<see cref="SyntheticAttack.Issba"/>):
/// trained by <see cref="IssbaTrainer"/> on the attacker's own clean images of the world (train split of base seed 5,
/// measured on its validation split) and cached in the lab's store, or read from <see cref="ModelPath"/>.
/// </summary>
public sealed record IssbaLabOptions
{
    /// <summary>
    /// A model written by <see cref="IssbaModel.Save"/> to use instead of training one; its SHA-256 is part of the
    /// planted model's cache key. Default null (train).
    /// </summary>
    public string? ModelPath { get; init; }

    /// <summary>Geometry of the trained model. Default <see cref="IssbaModelOptions"/>' defaults (32 px, 20 bits, width 16).</summary>
    public IssbaModelOptions Model { get; init; } = new();

    /// <summary>
    /// Training of the model. Default <see cref="IssbaTrainingOptions"/>' defaults (1,500 steps of 32 images) with
    /// <see cref="IssbaTrainingOptions.ResidualWeight"/> 60: on the 32-px world that gave PSNR 31.1 dB and 95.4% bit
    /// accuracy where BackdoorBox's weight 2 gave 18.7 dB and 98.0% (docs/backdoor.md).
    /// </summary>
    public IssbaTrainingOptions Training { get; init; } = new() { ResidualWeight = 60 };

    /// <summary>Clean images of the world the model is trained on. Default 4,000.</summary>
    public int TrainImages { get; init; } = 4_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Model, nameof(Model));
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Model.Validate();
        Training.Validate();
        if (TrainImages < 1) throw new ArgumentException($"TrainImages must be >= 1; got {TrainImages}.", nameof(TrainImages));
        if (ModelPath is not null && string.IsNullOrWhiteSpace(ModelPath)) throw new ArgumentException("ModelPath must be null or a file path.", nameof(ModelPath));
    }
}
