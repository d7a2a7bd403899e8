// The compose deployment says the same thing in its three files: the workers publish to MediaMTX
// with the one password (RTMP_URL's query and MediaMTX's publisher), nobody publishes without it,
// and monitoring runs under a profile. `docker-compose config` checks the syntax when installed.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { ROOT } from './helpers/proc.js';
import { parseRtmpUrls } from '../src/render/ffmpeg/args.js';

const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

describe('deployment files', () => {
  const compose = read('docker-compose.yaml');
  const mediamtx = read('deploy/mediamtx.yml');

  it('the app publishes with the credentials MediaMTX is given, the key before the query', () => {
    const rtmpUrl = /^\s+RTMP_URL: (\S+)/m.exec(compose)?.[1];
    expect(rtmpUrl).to.equal('rtmp://rtmp:1935/live?user=publisher&pass=${MEDIAMTX_PUBLISH_PASS:?set');
    expect(compose).to.match(/^\s+MTX_AUTHINTERNALUSERS_0_PASS: \$\{MEDIAMTX_PUBLISH_PASS:\?/m);
    const withPass = 'rtmp://rtmp:1935/live?user=publisher&pass=pw-1';
    expect(parseRtmpUrls(withPass, 'show')).to.deep.equal(['rtmp://rtmp:1935/live/show?user=publisher&pass=pw-1']);
  });

  it('MediaMTX: user 0 is the publisher, and no address publishes without credentials', () => {
    const users = mediamtx.slice(mediamtx.indexOf('authInternalUsers:'), mediamtx.indexOf('\npaths:'));
    const entries = users.split(/\n  - /).slice(1);
    expect(entries[0]).to.match(/^user: publisher\n/);
    expect(entries[0]).to.match(/action: publish/);
    for (const e of entries.slice(1)) expect(e, e).not.to.match(/action: publish/);
  });

  it('Prometheus and Grafana run under the monitoring profile', () => {
    for (const svc of ['prometheus', 'grafana']) {
      expect(compose).to.match(new RegExp(`\\n  ${svc}:\\n(?:    .*\\n)*?    profiles: \\[monitoring\\]`));
    }
    expect(compose).to.match(/METRICS_PORT: "9464"/);
    expect(read('deploy/prometheus.yml')).to.match(/targets: \[rtmp:9998\]/);
  });

  it('docker-compose config accepts it (when docker-compose is installed)', function () {
    const env = { ...process.env, API_TOKEN: 't', MEDIAMTX_PUBLISH_PASS: 'pw-1' };
    const r = spawnSync('docker-compose', ['--profile', 'monitoring', 'config'], { cwd: ROOT, env, encoding: 'utf8' });
    if (r.error) this.skip();
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('RTMP_URL: rtmp://rtmp:1935/live?user=publisher&pass=pw-1');
    expect(r.stdout).to.include('MTX_AUTHINTERNALUSERS_0_PASS: pw-1');
  });
});
