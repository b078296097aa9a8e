using Kiteflow.Cli;

// The commands are listed in KiteflowCommandLine.CreateRoot, and InvokeAsync turns argument errors into exit code 2
// and any unexpected exception into one line and exit code 1, so tests run exactly what the process runs.
return await KiteflowCommandLine.InvokeAsync(args).ConfigureAwait(false);
