// Uploads one file through presession's tus endpoint with tus-js-client,
// the way an organisation's own tooling would, and reports what happened
// as JSON lines on stdout. Driven by upload/node_test.go.
//
//   node upload-tus.mjs '{"endpoint": "...", "token": "...", "file": "...",
//     "metadata": {...}, "urlStorage": "/tmp/x.json",
//     "stops": [5000000, 12000000],   // abort at these offsets, then resume
//     "signalAt": 20000000,           // print {"event":"signal"} once, keep going
//     "quitAt": 30000000,             // after the stops, abort here and exit (a later run resumes)
//     "retryDelays": [0, 250, 500]}'
//
// Events: {"event":"aborted","at":N,"url":U}, {"event":"resumed","from":N,"url":U},
// {"event":"signal","at":N}, {"event":"quit","at":N,"url":U}, {"event":"success","url":U},
// {"event":"error","message":M}.
import fs from 'node:fs';
import * as tus from 'tus-js-client';

const opts = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const urlStorage = new tus.FileUrlStorage(opts.urlStorage);
let signalled = false;

// attempt runs one upload until it succeeds, fails, or passes stopAt.
function attempt(stopAt) {
  return new Promise((resolve) => {
    let firstProgress = true;
    let previous = null;
    const upload = new tus.Upload(fs.createReadStream(opts.file), {
      endpoint: opts.endpoint,
      headers: { Authorization: 'Bearer ' + opts.token },
      metadata: opts.metadata,
      chunkSize: opts.chunkSize || Infinity,
      retryDelays: opts.retryDelays || [0, 250, 500, 1000, 2000],
      urlStorage,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: false,
      onProgress(sent, total) {
        if (firstProgress) {
          firstProgress = false;
          if (previous) out({ event: 'resumed', from: sent, url: upload.url });
        }
        if (opts.signalAt && !signalled && sent >= opts.signalAt) {
          signalled = true;
          out({ event: 'signal', at: sent });
        }
        if (stopAt !== undefined && sent >= stopAt) {
          const at = sent;
          upload.abort(false).then(() => resolve({ aborted: true, at, url: upload.url }));
          stopAt = undefined;
        }
      },
      onSuccess() {
        resolve({ success: true, url: upload.url });
      },
      onError(err) {
        resolve({ error: String(err && err.message ? err.message : err) });
      },
    });
    upload.findPreviousUploads().then((prev) => {
      if (prev.length > 0) {
        previous = prev[0];
        upload.resumeFromPreviousUpload(prev[0]);
      }
      upload.start();
    }, (err) => resolve({ error: String(err) }));
  });
}

const stops = opts.stops || [];
const quitting = opts.quitAt !== undefined;
const offsets = quitting ? [...stops, opts.quitAt] : stops;
for (let i = 0; i <= stops.length; i++) {
  const r = await attempt(offsets[i]);
  if (r.error) {
    out({ event: 'error', message: r.error });
    process.exit(1);
  }
  if (r.aborted && quitting && i === stops.length) {
    out({ event: 'quit', at: r.at, url: r.url });
    break;
  }
  if (r.aborted) {
    out({ event: 'aborted', at: r.at, url: r.url });
    continue;
  }
  out({ event: 'success', url: r.url });
  break;
}
