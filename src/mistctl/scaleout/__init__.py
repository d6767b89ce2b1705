"""Scale-out: deployments queued in Redis and run by `mistctl worker` processes (arq).

- `queue`: the run book and the deployment queue (what is queued, how a run is split into jobs);
- `seal`: tokens sealed for the workers (never in clear in Redis);
- `state`: what every job of one worker process shares, and each job's short lease;
- `worker`: the arq worker itself (settings, polling, reconnects);
- `jobs`: the three jobs of a queued deployment (deploy, site, finish);
- `locks`: the per-site locks a run's jobs hold;
- `deletes`: a run's deletes, made by its `finish` job with the consent it was queued with.
"""
