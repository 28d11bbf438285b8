// Signs the Ed25519Signature2020 Open Badges 3.0 fixtures in tests/fixtures/badges with Digital Bazaar's libraries
// (pinned in package-lock.json), as issuers built on them do, and checks each with the same libraries:
//
//     cd tests/badges-2020 && npm ci && node sign.mjs
//
// Writes ob3-ed25519-2020.json (VC 2.0 + OB 3.0.3 contexts), ob3-ed25519-2020-vc1.json (VC 1.1 + OB 3.0.2, the shape
// the Digital Credentials Consortium's issuer writes) and ob3-ed25519-2020-https-key.json (a key published on the
// issuer's website). The keys come from fixed seeds and `created` is fixed, so the files are the same every run.
// Contexts come from Folio's vendored folder (app/services/badges/contexts); any other URL but a did:key is refused.
import {createHash} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import * as DidKey from '@digitalbazaar/did-method-key';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from '@digitalbazaar/ed25519-verification-key-2020';

const here = dirname(fileURLToPath(import.meta.url));
const contextsFolder = join(here, '..', '..', 'app', 'services', 'badges', 'contexts');
const fixturesFolder = join(here, '..', 'fixtures', 'badges');
const CONTEXTS = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/2018/credentials/v1': 'credentials-v1.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-context-3.0.3.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json': 'ob-context-3.0.2.json',
  'https://w3id.org/security/suites/ed25519-2020/v1': 'ed25519-signature-2020-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
};

const didKeyDriver = DidKey.driver();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519VerificationKey2020.from});

async function documentLoader(url) {
  if(CONTEXTS[url]) {
    const document = JSON.parse(readFileSync(join(contextsFolder, CONTEXTS[url]), 'utf8'));
    return {contextUrl: null, documentUrl: url, document};
  }
  if(url.startsWith('did:key:')) {
    return {contextUrl: null, documentUrl: url, document: await didKeyDriver.get({url})};
  }
  throw new Error(`refused to load ${url}`);
}

function seed(text) {
  return new Uint8Array(createHash('sha256').update(text).digest());
}

async function didKeyPair() {
  const keyPair = await Ed25519VerificationKey2020.generate({seed: seed('folio test issuer: Ed25519Signature2020')});
  const {didDocument} = await didKeyDriver.fromKeyPair({verificationKeyPair: keyPair});
  keyPair.controller = didDocument.id;
  keyPair.id = didDocument.assertionMethod[0];
  return keyPair;
}

function credential({contexts, issuer, dates}) {
  return {
    '@context': contexts,
    id: 'urn:uuid:0b9e4a52-3c77-4e0e-8f0c-2d1a9b6f4e21',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {id: issuer, type: ['Profile'], name: 'Northside Makers Guild', url: 'https://makers.example.org'},
    ...dates,
    name: 'Soldering Safety',
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [{type: 'IdentityObject', identityHash: 'maya@example.org', identityType: 'emailAddress',
        hashed: false}],
      achievement: {
        id: 'https://makers.example.org/achievements/soldering-safety',
        type: ['Achievement'],
        name: 'Soldering Safety',
        description: 'Soldered a small circuit board safely and tidily.',
        criteria: {narrative: 'Solder ten joints on a practice board with eye protection and a fume extractor.'},
      },
    },
  };
}

const created = '2026-03-14T10:00:00Z';

async function sign(unsigned, key) {
  const suite = new Ed25519Signature2020({key, date: created});
  return vc.issue({credential: unsigned, suite, documentLoader});
}

async function check(name, signed) {
  const result = await vc.verifyCredential({credential: signed, suite: new Ed25519Signature2020(), documentLoader});
  if(!result.verified) {
    throw new Error(`${name} does not verify with Digital Bazaar's own verifier: ${JSON.stringify(result.error)}`);
  }
}

function write(name, signed) {
  writeFileSync(join(fixturesFolder, name), JSON.stringify(signed, null, 2) + '\n');
  console.log(`wrote ${name}`);
}

const didKey = await didKeyPair();
const v2 = await sign(credential({
  contexts: ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
  issuer: didKey.controller, dates: {validFrom: '2026-03-14T10:00:00Z'},
}), didKey);
await check('ob3-ed25519-2020.json', v2);
write('ob3-ed25519-2020.json', v2);

const v1 = await sign(credential({
  contexts: ['https://www.w3.org/2018/credentials/v1', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json',
    'https://w3id.org/security/suites/ed25519-2020/v1'],
  issuer: didKey.controller, dates: {issuanceDate: '2026-03-14T10:00:00Z'},
}), didKey);
await check('ob3-ed25519-2020-vc1.json', v1);
write('ob3-ed25519-2020-vc1.json', v1);

// A key published on the issuer's website: signing needs only the private key; verifying would fetch the key.
const webKey = await Ed25519VerificationKey2020.generate({
  seed: seed('folio test issuer: Ed25519Signature2020 on the web'),
  controller: 'https://makers.example.org/issuer', id: 'https://makers.example.org/issuer#key-1',
});
write('ob3-ed25519-2020-https-key.json', await sign(credential({
  contexts: ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
  issuer: webKey.controller, dates: {validFrom: '2026-03-14T10:00:00Z'},
}), webKey));
