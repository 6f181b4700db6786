using Microsoft.Extensions.Logging;

namespace Rvpt;

/// <summary>
/// When <see cref="FewShotTrainer.Fit"/> writes its resumable state (<see cref="TrainingState"/>): read once at the
/// start, written after every epoch, every <see cref="TrainingOptions.CheckpointEverySteps"/> steps within an epoch,
/// and on cancellation when steps were done since the last write. Without a checkpoint folder it writes nothing.
/// </summary>
internal sealed class TrainingCheckpointer
{
    private readonly string? _directory;
    private readonly TrainingOptions _options;
    private readonly DeepPromptInjector _prompts;
    private readonly IPromptOptimizer _optimizer;
    private readonly SortedDictionary<string, string> _run;
    private readonly int _stepsPerEpoch;
    private readonly ILogger _logger;

    public TrainingCheckpointer(TrainingOptions options, DeepPromptInjector prompts, IPromptOptimizer optimizer,
        SortedDictionary<string, string> run, int stepsPerEpoch, ILogger logger)
    {
        _directory = options.CheckpointDirectory;
        _options = options;
        _prompts = prompts;
        _optimizer = optimizer;
        _run = run;
        _stepsPerEpoch = stepsPerEpoch;
        _logger = logger;
    }

    /// <summary>The position of the state in the checkpoint file.</summary>
    public TrainingPosition Saved { get; private set; }

    /// <summary>
    /// Loads the saved state into the prompts and optimiser, if there is one, and returns where the run resumes
    /// (the start without a folder or file). Creates the folder.
    /// </summary>
    /// <exception cref="InvalidDataException">The state is damaged, from other settings, or lies outside this run.</exception>
    public TrainingPosition Resume()
    {
        if (_directory is null) return default;
        Directory.CreateDirectory(_directory);
        var start = TrainingState.TryLoad(_directory, _prompts, _optimizer, _run);
        if (start.Epoch > _options.Epochs || start.Step > _stepsPerEpoch || (start.Epoch == _options.Epochs && start.Step > 0))
            throw new InvalidDataException($"{Path.Combine(_directory, TrainingState.FileName)}: position {start} does not lie within this run of {_options.Epochs} epochs of {_stepsPerEpoch} steps.");
        if (start != default) _logger.LogInformation("Resuming from {Dir}: {Position}.", _directory, start);
        Saved = start;
        return start;
    }

    /// <summary>After a step within an epoch: writes every <see cref="TrainingOptions.CheckpointEverySteps"/> steps (not at the epoch's last step, which <see cref="AfterEpoch"/> writes).</summary>
    public void AfterStep(TrainingPosition position)
    {
        int every = _options.CheckpointEverySteps;
        if (every > 0 && position.Step % every == 0 && position.Step < _stepsPerEpoch) Save(position);
    }

    /// <summary>After an epoch: writes the state at <paramref name="position"/> (the next epoch's start).</summary>
    public void AfterEpoch(TrainingPosition position) => Save(position);

    /// <summary>Whether a cancelled run has steps to keep: a folder is set and the state in memory is newer than the file's.</summary>
    public bool HasUnsavedSteps(TrainingPosition position) => _directory is not null && position != Saved;

    /// <summary>
    /// On cancellation: writes the completed steps so far. A cancel right after an epoch's last step is the epoch's end,
    /// unless the epoch still had to be validated (<paramref name="epochEndNeedsValidation"/>): then it is kept as
    /// (epoch, its step count), so the resumed run validates that epoch before going on.
    /// </summary>
    public void SaveCancelled(TrainingPosition position, bool epochEndNeedsValidation = false)
    {
        if (position.Step >= _stepsPerEpoch && !epochEndNeedsValidation) position = new TrainingPosition(position.Epoch + 1, 0);
        Save(position);
        _logger.LogInformation("Cancelled; the state {Position} is saved in {Dir}.", position, _directory);
    }

    /// <summary>Where the last good state is, for error messages.</summary>
    public string LastGoodState() => _directory is { } dir
        ? $"The last good state is in {Path.Combine(dir, TrainingState.FileName)}."
        : "No checkpoint folder was set.";

    private void Save(TrainingPosition position)
    {
        if (_directory is null) return;
        TrainingState.Save(_directory, _prompts, _optimizer, position, _run);
        Saved = position;
    }
}
