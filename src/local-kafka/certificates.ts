import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { runCommand } from '../local-servers/child-process.ts'

/** The TLS material of a secured development broker, all inside its dir. */
export interface BrokerCertificates {
  /** PKCS12 keystore with the broker's key and its certificate chain (for `ssl.keystore.location`). */
  readonly keystore: string
  /** The CA certificate, PEM: the broker's truststore and what clients pass as `tls.ca`. */
  readonly caPem: string
  /** Password of the keystore (PKCS12 uses one password for the store and its keys). */
  readonly password: string
}

const validityDays = '3650'

/**
 * Makes a throwaway certificate authority and a broker certificate it signs, with the JDK's
 * keytool, in `<dir>/tls` — once: a restarted broker keeps its certificates, so clients that
 * trust the CA keep working. The broker certificate names 127.0.0.1 and localhost, which is
 * what Node's TLS checks the broker's address against.
 */
export async function ensureBrokerCertificates(dir: string): Promise<BrokerCertificates> {
  const tls = join(dir, 'tls')
  const files = {
    keystore: join(tls, 'broker.p12'),
    caPem: join(tls, 'ca.pem'),
    passwordFile: join(tls, 'password'),
  }
  if (existsSync(files.keystore) && existsSync(files.caPem) && existsSync(files.passwordFile)) {
    return {
      keystore: files.keystore,
      caPem: files.caPem,
      password: readFileSync(files.passwordFile, 'utf8'),
    }
  }
  rmSync(tls, { recursive: true, force: true })
  mkdirSync(tls, { recursive: true })
  const password = randomBytes(12).toString('hex')
  const caStore = join(tls, 'ca.p12')
  const request = join(tls, 'broker.csr')
  const signed = join(tls, 'broker.pem')
  const store = (path: string) => ['-keystore', path, '-storetype', 'PKCS12', '-storepass', password]
  const newKey = (alias: string, name: string) => [
    '-genkeypair',
    '-alias',
    alias,
    '-dname',
    `CN=${name}`,
    '-keyalg',
    'RSA',
    '-keysize',
    '2048',
    '-validity',
    validityDays,
    '-keypass',
    password,
  ]
  await keytool('create the CA', [
    ...newKey('ca', 'sluice development CA'),
    '-ext',
    'bc:c',
    ...store(caStore),
  ])
  await keytool('export the CA certificate', [
    '-exportcert',
    '-rfc',
    '-alias',
    'ca',
    '-file',
    files.caPem,
    ...store(caStore),
  ])
  await keytool('create the broker key', [...newKey('broker', 'localhost'), ...store(files.keystore)])
  await keytool('write the broker certificate request', [
    '-certreq',
    '-alias',
    'broker',
    '-file',
    request,
    ...store(files.keystore),
  ])
  await keytool('sign the broker certificate', [
    '-gencert',
    '-alias',
    'ca',
    '-infile',
    request,
    '-outfile',
    signed,
    '-rfc',
    '-validity',
    validityDays,
    '-ext',
    'SAN=ip:127.0.0.1,dns:localhost',
    '-ext',
    'EKU=serverAuth,clientAuth',
    ...store(caStore),
  ])
  // The keystore must hold the whole chain: the CA first, then the signed certificate replaces the self-signed one.
  await keytool('import the CA into the broker keystore', [
    '-importcert',
    '-noprompt',
    '-alias',
    'ca',
    '-file',
    files.caPem,
    ...store(files.keystore),
  ])
  await keytool('import the signed broker certificate', [
    '-importcert',
    '-noprompt',
    '-alias',
    'broker',
    '-file',
    signed,
    ...store(files.keystore),
  ])
  // Written last: its presence means the set is complete.
  writeFileSync(files.passwordFile, password)
  return { keystore: files.keystore, caPem: files.caPem, password }
}

async function keytool(what: string, args: readonly string[]): Promise<void> {
  const result = await runCommand('keytool', args).catch((error: NodeJS.ErrnoException) => {
    throw new SluiceError(
      ErrorCodes.LOCAL_KAFKA,
      error.code === 'ENOENT'
        ? "keytool (the JDK's) is not on PATH; install a JDK 17+ to make a TLS broker's certificates"
        : `running keytool failed: ${error.message}`,
      { cause: error },
    )
  })
  if (result.status !== 0) {
    throw new SluiceError(
      ErrorCodes.LOCAL_KAFKA,
      `keytool could not ${what} (exit ${result.status}):\n${result.output.trim().slice(-1500)}`,
    )
  }
}
