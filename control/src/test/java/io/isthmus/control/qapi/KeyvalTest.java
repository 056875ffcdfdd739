package io.isthmus.control.qapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.isthmus.control.QmpError;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keyval parsing and typing. Expected error texts were observed on qemu-storage-daemon 7.2.22's
 * command line ({@code qemu-storage-daemon: --blockdev ARG: TEXT}).
 */
class KeyvalTest {
    private static final QapiSchema SCHEMA = QapiSchema.load();

    @Test
    void parsesPairsImpliedKeyEscapesNestingAndLists() {
        assertEquals(Map.of("type", "nbd", "id", "x", "name", "a,b"), Keyval.parse("nbd,id=x,name=a,,b", "type"));
        assertEquals(Map.of("addr", Map.of("type", "unix", "path", "/p")), Keyval.parse("addr.type=unix,addr.path=/p", null));
        assertEquals(Map.of("bitmaps", List.of("a", Map.of("node", "n", "name", "b"))),
                Keyval.parse("bitmaps.1.node=n,bitmaps.0=a,bitmaps.1.name=b", null));
        assertEquals(Map.of("a", "2"), Keyval.parse("a=1,a=2", null));
        assertEquals(Map.of("name", ""), Keyval.parse("name=", null));
        assertEquals(Map.of("a", "1"), Keyval.parse("a=1,", null));
        assertEquals(Map.of(), Keyval.parse("", "driver"));
        assertEquals(Map.of("driver", "a.b"), Keyval.parse("a.b", "driver"));
        assertEquals(Map.of("__com.redhat_x", "1"), Keyval.parse("__com.redhat_x=1", null));
        // Member order is the order of first appearance.
        assertEquals(List.of("type", "id", "node-name"),
                List.copyOf(Keyval.parse("nbd,id=e,node-name=n,id=f", "type").keySet()));
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
            Arguments.of("bad,,input", "driver", "Invalid parameter ''"),
            Arguments.of("null-co,node-name=n,read-zeroes", "driver", "Expected '=' after parameter 'read-zeroes'"),
            Arguments.of("null-co,node-name=n,a.b=1,a=2", "driver", "Parameters 'a.*' used inconsistently"),
            Arguments.of("null-co,node-name=n,a=1,a.b=2", "driver", "Parameters 'a.*' used inconsistently"),
            Arguments.of("null-co,node-name=n,a.0=1,a.x=2", "driver", "Parameters 'a.*' used inconsistently"),
            Arguments.of("null-co,node-name=n,a.0=1,a.2=2", "driver", "Parameter 'a.1' missing"),
            Arguments.of("null-co,node-name=n,1a=1", "driver", "Invalid parameter '1a'"),
            Arguments.of("null-co,node-name=n,a b=1", "driver", "Invalid parameter 'a b'"),
            Arguments.of("null-co,node-name=n,=1", "driver", "Invalid parameter ''"),
            Arguments.of("help", "driver", "Help is not available for this option"),
            Arguments.of("null-co,help", "driver", "Help is not available for this option"),
            Arguments.of("?", "driver", "Help is not available for this option"),
            Arguments.of("driver=null-co,node-name=n,node-name.x=1", "driver", "Parameters 'node-name.*' used inconsistently"),
            Arguments.of(",driver=null-co", "driver", "Invalid parameter ''"),
            Arguments.of("null-co,node-name=n," + "a".repeat(128) + "=1", "driver",
                "Parameter '" + "a".repeat(128) + "' is too long"),
            Arguments.of("null-co,node-name=n,x." + "a".repeat(128) + "=1", "driver",
                "Parameter fragment '" + "a".repeat(128) + "' is too long"),
            Arguments.of("unix", null, "Expected '=' after parameter 'unix'"),
            Arguments.of("a.b.0=x,a.b.y=z", null, "Parameters 'a.b.*' used inconsistently"),
            Arguments.of("a.3=x", null, "Parameter 'a.0' missing"),
            Arguments.of("a..b=1", null, "Invalid parameter 'a..b'"),
            Arguments.of("a.=1", null, "Invalid parameter 'a.'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void reportsQemusSyntaxErrors(String text, String implied, String expected) {
        QmpError e = assertThrows(QmpError.class, () -> Keyval.parse(text, implied));
        assertEquals(expected, e.desc());
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
            Arguments.of("BlockdevOptions", "null-co,node-name=n,size=1x", "driver", "Parameter 'size' expects integer"),
            Arguments.of("BlockdevOptions", "null-co,node-name=n,size=1k", "driver", "Parameter 'size' expects integer"),
            Arguments.of("BlockdevOptions", "null-co,node-name=n,size=0x10,read-zeroes=maybe", "driver",
                "Parameter 'read-zeroes' expects 'on' or 'off'"),
            Arguments.of("BlockdevOptions", "driver=null-co,node-name=n,cache=1", "driver",
                "Invalid parameter type for 'cache', expected: object"),
            Arguments.of("BlockdevOptions", "driver=null-co,node-name=n,cache.direct=x", "driver",
                "Parameter 'cache.direct' expects 'on' or 'off'"),
            Arguments.of("BlockdevOptions", "driver=null-co,node-name.0=1", "driver",
                "Parameters 'node-name.*' are unexpected"),
            Arguments.of("BlockdevOptions", "driver=null-co,node-name=n,latency-ns=abc", "driver",
                "Parameter 'latency-ns' expects integer"),
            Arguments.of("BlockdevOptions", "driver=null-co,node-name=n,latency-ns=99999999999999999999", "driver",
                "Parameter 'latency-ns' expects integer"),
            Arguments.of("BlockdevOptions", "", "driver", "Parameter 'driver' is missing"),
            Arguments.of("NbdServerOptions", "addr.type=unix,addr.path=/tmp/x,max-connections=-1", null,
                "Parameter 'max-connections' expects uint32_t"),
            Arguments.of("NbdServerOptions", "addr.type=unix,addr.path=/tmp/x,max-connections=4294967296", null,
                "Parameter 'max-connections' expects uint32_t"),
            Arguments.of("NbdServerOptions", "addr.type=unix,addr.path=/tmp/x,max-connections=x", null,
                "Parameter 'max-connections' expects integer"),
            Arguments.of("NbdServerOptions", "addr.type=unix,addr.path=/tmp/x,max-connections=0x10,max-connections=x", null,
                "Parameter 'max-connections' expects integer"),
            Arguments.of("NbdServerOptions", "addr.type=unix", null, "Parameter 'addr.path' is missing"),
            Arguments.of("NbdServerOptions", "addr=unix", null, "Invalid parameter type for 'addr', expected: object"),
            Arguments.of("NbdServerOptions", "addr.type=unix,addr.path.x=1", null, "Parameters 'addr.path.*' are unexpected"),
            Arguments.of("BlockExportOptions", "nbd,id=e,node-name=n,bitmaps.0=a,bitmaps.1.node=b", "type",
                "Parameter 'bitmaps.1.name' is missing"),
            Arguments.of("BlockExportOptions", "nbd,id=e,node-name=n,bitmaps.0.node=a", "type",
                "Parameter 'bitmaps.0.name' is missing"),
            Arguments.of("BlockExportOptions", "nbd,id=e,node-name=n,bitmaps=a", "type",
                "Invalid parameter type for 'bitmaps', expected: array"),
            Arguments.of("BlockExportOptions", "vhost-user-blk,id=e,node-name=n,addr.type=unix,addr.path=x,logical-block-size=1x",
                "type", "Parameter 'logical-block-size' expects size"),
            Arguments.of("BlockExportOptions", "vhost-user-blk,id=e,node-name=n,addr.type=unix,addr.path=x,num-queues=70000",
                "type", "Parameter 'num-queues' expects uint16_t"),
            Arguments.of("BlockExportOptions", "vhost-user-blk,id=e,node-name=n,addr.type=unix,addr.path=x,addr.to=1",
                "type", "Parameter 'addr.to' is unexpected"),
            Arguments.of("ObjectOptions", "iothread,id=i,poll-max-ns=x", "qom-type", "Parameter 'poll-max-ns' expects integer"),
            Arguments.of("ObjectOptions", "nosuch,id=i", "qom-type", "Parameter 'qom-type' does not accept value 'nosuch'"),
            Arguments.of("ObjectOptions", "authz-list,id=a,rules.0.match=x,rules.0.policy=y", "qom-type",
                "Parameter 'policy' does not accept value 'y'"),
            Arguments.of("MonitorOptions", "chardev=x,pretty=maybe", "chardev", "Parameter 'pretty' expects 'on' or 'off'"),
            Arguments.of("MonitorOptions", "pretty=x,chardev.x=1", "chardev", "Parameter 'pretty' expects 'on' or 'off'"),
            Arguments.of("MonitorOptions", "mode=x,pretty=x", "chardev", "Parameter 'mode' does not accept value 'x'"),
            Arguments.of("MonitorOptions", "pretty=on", "chardev", "Parameter 'chardev' is missing"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("badValues")
    void typingReportsQemusErrors(String type, String text, String implied, String expected) {
        QmpError e = assertThrows(QmpError.class, () -> SCHEMA.keyvalToArguments(type, Keyval.parse(text, implied)));
        assertEquals(expected, e.desc());
    }

    @Test
    @SuppressWarnings("unchecked")
    void commandLineAndJsonFormsGiveTheSameArguments() {
        Map<String, Object> fromCli = SCHEMA.keyvalToArguments("BlockExportOptions", Keyval.parse(
                "vhost-user-blk,id=v0,node-name=disk,addr.type=unix,addr.path=/s,writable=on,num-queues=3,"
                        + "logical-block-size=4k,iothread.0=io0,iothread.1=io1", "type"));
        Map<String, Object> fromJson = (Map<String, Object>) SCHEMA.parseType("BlockExportOptions", QapiValidatorTest.json(
                "{'type':'vhost-user-blk','id':'v0','node-name':'disk','addr':{'type':'unix','path':'/s'},"
                        + "'writable':true,'num-queues':3,'logical-block-size':4096,'iothread':['io0','io1']}"));
        assertEquals(fromJson, fromCli);
        assertEquals(3L, fromCli.get("num-queues"));
        assertEquals(4096L, fromCli.get("logical-block-size"));

        Map<String, Object> blockdev = SCHEMA.keyvalToArguments("BlockdevOptions", Keyval.parse(
                "raw,node-name=r,file.driver=file,file.filename=/x,file.aio=io_uring,read-only=yes,offset=0x200,size=010,"
                        + "cache.direct=n", "driver"));
        assertEquals(Map.of("driver", "raw", "node-name", "r", "read-only", true, "cache", Map.of("direct", false),
                "file", Map.of("driver", "file", "filename", "/x", "aio", "io_uring"), "offset", 512L, "size", 8L), blockdev);

        Map<String, Object> nbd = SCHEMA.keyvalToArguments("BlockExportOptions",
                Keyval.parse("nbd,id=e,node-name=n,name=,bitmaps.0=b0,bitmaps.1.node=n,bitmaps.1.name=b1,iothread=io0", "type"));
        assertEquals(Map.of("type", "nbd", "id", "e", "node-name", "n", "name", "", "iothread", "io0",
                "bitmaps", List.of("b0", Map.of("node", "n", "name", "b1"))), nbd);
    }

    @Test
    @SuppressWarnings("unchecked")
    void unsignedValuesWrapAndConvertLikeQemu() {
        Map<String, Object> v = SCHEMA.keyvalToArguments("BlockdevOptions",
                Keyval.parse("null-co,node-name=n,latency-ns=-1", "driver"));
        assertEquals(new BigInteger("18446744073709551615"), v.get("latency-ns"));
        Map<String, Object> j = SCHEMA.parseArguments("blockdev-add",
                QapiValidatorTest.json("{'driver':'null-co','node-name':'n','latency-ns':-2}"));
        assertEquals(new BigInteger("18446744073709551614"), j.get("latency-ns"));
        Map<String, Object> e = (Map<String, Object>) SCHEMA.parseType("BlockExportOptions", QapiValidatorTest.json(
                "{'type':'vhost-user-blk','id':'v','node-name':'n','addr':{'type':'fd','str':'3'},'logical-block-size':-1}"));
        assertEquals(new BigInteger("18446744073709551615"), e.get("logical-block-size"));
    }
}
