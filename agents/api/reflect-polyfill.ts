// @peculiar/x509 uses tsyringe, which needs the Reflect metadata API at load time; the
// reflect-metadata package provides it. Import this module before @peculiar/x509.
import 'reflect-metadata';
